"""Real-time IoT ingestion: device simulator, MQTT -> Kafka bridge, Kafka -> Delta streaming job."""
