import type { ProductCreateBody } from '@slipway/contracts';

/**
 * The demo catalog the local stack, the web app and the e2e journeys start with. Fixed ids so a
 * demo link or an e2e test can name a product; inserted only into an empty table.
 */
export const SAMPLE_PRODUCTS: readonly (ProductCreateBody & { id: string })[] = [
  { id: '2b8f3c1e-0d4a-4b6f-9a1e-5c7d8e9f0a01', sku: 'MUG-001', name: 'Slipway mug', description: 'Stoneware mug, 350 ml, dishwasher safe', priceCents: 1290, currency: 'EUR', stock: 120 },
  { id: '2b8f3c1e-0d4a-4b6f-9a1e-5c7d8e9f0a02', sku: 'TEE-BLK-M', name: 'Logo T-shirt, black, M', description: 'Organic cotton', priceCents: 2500, currency: 'EUR', stock: 40 },
  { id: '2b8f3c1e-0d4a-4b6f-9a1e-5c7d8e9f0a03', sku: 'TEE-BLK-L', name: 'Logo T-shirt, black, L', description: 'Organic cotton', priceCents: 2500, currency: 'EUR', stock: 35 },
  { id: '2b8f3c1e-0d4a-4b6f-9a1e-5c7d8e9f0a04', sku: 'HOOD-GRY-M', name: 'Hoodie, grey, M', description: 'Brushed fleece', priceCents: 5900, currency: 'EUR', stock: 12 },
  { id: '2b8f3c1e-0d4a-4b6f-9a1e-5c7d8e9f0a05', sku: 'STICK-PACK', name: 'Sticker pack', description: 'Five vinyl stickers', priceCents: 450, currency: 'EUR', stock: 500 },
  { id: '2b8f3c1e-0d4a-4b6f-9a1e-5c7d8e9f0a06', sku: 'NOTE-A5', name: 'Notebook A5, dotted', description: '120 pages', priceCents: 1490, currency: 'EUR', stock: 80 },
  { id: '2b8f3c1e-0d4a-4b6f-9a1e-5c7d8e9f0a07', sku: 'CAP-NAVY', name: 'Baseball cap, navy', description: 'One size', priceCents: 2200, currency: 'EUR', stock: 25 },
  { id: '2b8f3c1e-0d4a-4b6f-9a1e-5c7d8e9f0a08', sku: 'BOTTLE-750', name: 'Steel bottle 750 ml', description: 'Keeps drinks cold for 24 h', priceCents: 2900, currency: 'EUR', stock: 60 },
  { id: '2b8f3c1e-0d4a-4b6f-9a1e-5c7d8e9f0a09', sku: 'TOTE-NAT', name: 'Tote bag, natural', description: 'Heavy canvas', priceCents: 1800, currency: 'EUR', stock: 70 },
  { id: '2b8f3c1e-0d4a-4b6f-9a1e-5c7d8e9f0a10', sku: 'PIN-ANCHOR', name: 'Enamel pin, anchor', description: 'Gold-plated', priceCents: 800, currency: 'EUR', stock: 200 },
  { id: '2b8f3c1e-0d4a-4b6f-9a1e-5c7d8e9f0a11', sku: 'POSTER-A2', name: 'Launch poster A2', description: 'Risograph print', priceCents: 3500, currency: 'USD', stock: 15 },
  { id: '2b8f3c1e-0d4a-4b6f-9a1e-5c7d8e9f0a12', sku: 'SOCKS-STR', name: 'Striped socks', description: 'Sold out until the next batch', priceCents: 1200, currency: 'EUR', stock: 0 },
];
