"""Reports: exports for people (Excel, CSV), chart images, the monthly deck, pushes."""
