"""From master notebooks to what students and Gradescope receive, and the proof that it grades right."""
