"""Running untrusted notebook code in a child process, and the plain-data boundary around it."""
