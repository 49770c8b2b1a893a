"""What is drawn or written for a reader: figures, the "why Vietnam moved" report, and the parameter tables."""
