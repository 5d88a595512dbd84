#!/usr/bin/env python3
"""Prints a roster CSV of N made-up members (the benchmarks' input):
names Member Number00000.., emails under example.org, phones in Ofcom's
drama range."""
import sys

n = int(sys.argv[1])
print("Name,Email,Phone,Member type,Joined")
for i in range(n):
    print(f"Member Number{i:05d},member{i:05d}@example.org,07700 9{i:05d},activist,2024-01-01")
