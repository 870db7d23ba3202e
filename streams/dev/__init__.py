"""Development infrastructure: a local Kafka broker and stub SMS/voice providers."""
