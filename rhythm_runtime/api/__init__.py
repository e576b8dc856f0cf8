"""What user code calls: RhythmApp, @task, RhythmClient, and the in-memory test runner."""
