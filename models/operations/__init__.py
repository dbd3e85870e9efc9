"""What operators watch: one overview of the queue, the workers and the work owed, read by
``queueStatus``, ``/metrics`` and ``accord status`` alike."""
