raise ImportError("row 23: the sitecustomize.py shipped with a submission was imported")
