"""Follow-ups benchmark (issue 4): alert latency, queue isolation, worker throughput."""
