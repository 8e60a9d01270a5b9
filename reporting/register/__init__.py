"""The public award register: its read model, search and filters, open data files and the read API."""
