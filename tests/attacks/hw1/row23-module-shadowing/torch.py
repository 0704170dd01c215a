raise ImportError("row 23: the torch.py shipped with a submission was imported")
