import { render } from '@testing-library/react';
import type { ReactElement } from 'react';
import { MemoryRouter, useLocation } from 'react-router-dom';
import { ApiClientProvider } from '../api/api-context';
import { createApiClient, type FetchFn } from '../api/client';

/** Shows the router's current location so tests can assert what the page wrote to the URL. */
function LocationProbe() {
  const location = useLocation();
  return (
    <div hidden data-testid="location">
      {location.pathname + location.search}
    </div>
  );
}

export function renderWithApi(ui: ReactElement, { fetch, route = '/' }: { fetch: FetchFn; route?: string }) {
  return render(
    <MemoryRouter initialEntries={[route]}>
      <ApiClientProvider client={createApiClient({ fetch })}>
        {ui}
        <LocationProbe />
      </ApiClientProvider>
    </MemoryRouter>,
  );
}
