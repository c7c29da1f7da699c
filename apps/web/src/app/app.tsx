import { Link, NavLink, Route, Routes } from 'react-router-dom';
import { OrderPage } from '../pages/order-page';
import { ProductsPage } from '../pages/products-page';
import { StatusPage } from '../pages/status-page';
import { useDocumentTitle } from '../lib/use-document-title';

export function App() {
  return (
    <>
      <header className="site-header">
        <Link to="/" className="brand">
          Slipway
        </Link>
        <nav aria-label="Main">
          <ul>
            <li>
              <NavLink to="/" end>
                Products
              </NavLink>
            </li>
            <li>
              <NavLink to="/order">Order</NavLink>
            </li>
            <li>
              <NavLink to="/status">Status</NavLink>
            </li>
          </ul>
        </nav>
      </header>
      <main>
        <Routes>
          <Route path="/" element={<ProductsPage />} />
          <Route path="/order" element={<OrderPage />} />
          <Route path="/status" element={<StatusPage />} />
          <Route path="*" element={<NotFoundPage />} />
        </Routes>
      </main>
    </>
  );
}

function NotFoundPage() {
  useDocumentTitle('Not found');
  return (
    <>
      <h1>Page not found</h1>
      <p>
        There is nothing here. <Link to="/">Go to the products</Link>.
      </p>
    </>
  );
}

export default App;
