import os

print("attribution model", os.environ.get("MODEL"), "for", os.environ.get("DSTART"), "to", os.environ.get("DEND"))
