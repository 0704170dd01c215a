raise ImportError("row 23: the numpy.py shipped with a submission was imported")
