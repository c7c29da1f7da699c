import { contracts } from './contracts.js';

describe('contracts', () => {
  it('should work', () => {
    expect(contracts()).toEqual('contracts');
  });
});
