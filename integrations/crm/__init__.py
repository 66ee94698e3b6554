"""CRM connectors: a vendor adapter per CRM (hubspot.py, salesforce.py) behind one contract (adapter.py), and the
sync that pulls records into the product and pushes scores back (sync.py)."""
