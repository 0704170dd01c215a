raise ImportError("row 23: the otter.py shipped with a submission was imported")
