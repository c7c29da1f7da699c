import { errorMessage } from './error-message';
import { formatMoney } from './format';

describe('errorMessage', () => {
  it('uses the message of an Error and the text of anything else', () => {
    expect(errorMessage(new TypeError('Failed to fetch'))).toBe('Failed to fetch');
    expect(errorMessage('boom')).toBe('boom');
    expect(errorMessage(undefined)).toBe('undefined');
  });
});

describe('formatMoney', () => {
  it('formats integer cents in the given currency', () => {
    expect(formatMoney(1250, 'EUR')).toBe('€12.50');
    expect(formatMoney(5, 'USD')).toBe('$0.05');
    expect(formatMoney(123456789, 'USD')).toBe('$1,234,567.89');
  });
});
