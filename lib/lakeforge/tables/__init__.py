"""Delta tables of the lakehouse: layout, writes, audit and control tables."""
