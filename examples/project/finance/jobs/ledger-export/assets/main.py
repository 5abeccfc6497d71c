import os

# A week of ledger entries (window version 1: 168h ending on the next Sunday).
print("exporting the ledger for", os.environ["DSTART"], "to", os.environ["DEND"])
