#!/usr/bin/python3
"""Reference data for the VALL-E X English front end's tests, from Debian's python3-inflect and python3-unidecode.

usage: /usr/bin/python3 tools/vallex_en_reference.py numbers > tests/VallE.Tests/Text/Vallex/inflect-numbers.json
       /usr/bin/python3 tools/vallex_en_reference.py unidecode   # prints where src AsciiFold's table differs

(apt-get install python3-inflect python3-unidecode). Only the library calls VALL-E X's english.py makes are
exercised: number_to_words(digits), number_to_words(n, andword=''), number_to_words(n, andword='', zero='oh',
group=2), each with its arguments recorded.
"""
import json
import sys


def numbers():
    import inflect
    p = inflect.engine()
    cases = []
    plain = [0, 1, 2, 9, 10, 11, 13, 19, 20, 21, 30, 45, 99, 100, 101, 110, 115, 120, 199, 200, 221, 999, 1000,
             1001, 1005, 1010, 1099, 1100, 1234, 2000, 3000, 3005, 3600, 10000, 10001, 12345, 100000, 100001,
             999999, 1000000, 1000001, 1000100, 1234567, 20000000, 1000000000, 123456789012]
    for n in plain:
        cases.append({"num": str(n), "group": 0, "andword": "and", "zero": "zero",
                      "words": p.number_to_words(str(n))})
        cases.append({"num": str(n), "group": 0, "andword": "", "zero": "zero",
                      "words": p.number_to_words(n, andword='')})
    for n in [1001, 1005, 1010, 1066, 1099, 1111, 1492, 1776, 1905, 1984, 1999, 2010, 2019, 2024, 2100, 2999]:
        cases.append({"num": str(n), "group": 2, "andword": "", "zero": "oh",
                      "words": p.number_to_words(n, andword='', zero='oh', group=2)})
    for s in ["1st", "2nd", "3rd", "4th", "5th", "8th", "9th", "11th", "12th", "13th", "20th", "21st", "22nd",
              "30th", "99th", "100th", "101st", "112th", "1000th", "1001st", "5st", "03rd"]:
        cases.append({"num": s, "group": 0, "andword": "and", "zero": "zero", "words": p.number_to_words(s)})
    print('{"inflect": %s, "cases": [' % json.dumps(getattr(inflect, "__version__", "debian python3-inflect")))
    print(",\n".join(json.dumps(c, ensure_ascii=False) for c in cases))
    print("]}")


def unidecode_table():
    from unidecode import unidecode
    ranges = [(0xA0, 0x180), (0x2000, 0x2070), (0x20A0, 0x20B2)]
    for lo, hi in ranges:
        for cp in range(lo, hi):
            print("%04X\t%s" % (cp, json.dumps(unidecode(chr(cp)))))


if __name__ == "__main__":
    {"numbers": numbers, "unidecode": unidecode_table}[sys.argv[1]]()
