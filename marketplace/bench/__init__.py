"""Plural at marketplace scale: a generator of large, skewed, deterministic data
(`seed_demo --size S|M|L`) and a benchmark that measures every key page against floors
measured in the same run (`manage.py bench`, `make bench`)."""
