"""The retail example: orders files, a products table in PostgreSQL and a Kafka topic of order events,
to gold tables of daily revenue per category and customer lifetime value (conf/examples/retail.yml)."""
