"""Writing grades for people and tools: the grade sheet, Gradescope's results.json, feedback."""
