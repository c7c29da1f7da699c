/** "€12.50" / "$3.00": amounts travel as integer cents, so convert only at the edge. */
export function formatMoney(cents: number, currency: string): string {
  return new Intl.NumberFormat('en', { style: 'currency', currency }).format(cents / 100);
}
