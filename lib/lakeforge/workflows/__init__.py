"""Jobs run as scheduled workflows: where they run (local or a Spark cluster), in what order, and exports."""
