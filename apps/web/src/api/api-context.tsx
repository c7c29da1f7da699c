import { createContext, useContext, type ReactNode } from 'react';
import { createApiClient, type ApiClient } from './client';

const ApiClientContext = createContext<ApiClient | null>(null);

export function ApiClientProvider({ client, children }: { client: ApiClient; children: ReactNode }) {
  return <ApiClientContext.Provider value={client}>{children}</ApiClientContext.Provider>;
}

const defaultClient = createApiClient();

/** The client the pages talk through; a provider swaps it (tests hand in one with a fake fetch). */
export function useApiClient(): ApiClient {
  return useContext(ApiClientContext) ?? defaultClient;
}
