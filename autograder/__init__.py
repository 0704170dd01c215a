"""Auto-graded homework on computing gradients in PyTorch.

A submission travels through the subpackages in this order:
``sandbox`` runs the student's notebook in a child process and collects its answers as plain data,
``homeworks`` says what to ask of each question and how to judge the answers,
``grading`` turns answers into scores with reasons, and ``report`` writes them for people and tools.
``build`` turns the master notebooks into what students and Gradescope receive.
"""
