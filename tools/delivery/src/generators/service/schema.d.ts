/** Options of `nx g @slipway/delivery:service`; schema.json is the source of truth. */
export interface ServiceGeneratorSchema {
  name: string;
  port?: number;
  database?: 'postgres' | 'none';
  redis?: boolean;
  description?: string;
  directory?: string;
  tags?: string;
  skipInstall?: boolean;
}
