"""Services: the marts (results kept per data version), the pages' default views, the drop folder."""
