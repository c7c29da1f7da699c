/** Options of `nx g @slipway/delivery:remove-service`; schema.json is the source of truth. */
export interface RemoveServiceGeneratorSchema {
  name: string;
  skipInstall?: boolean;
}
