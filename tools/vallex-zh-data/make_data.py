#!/usr/bin/env python3
"""Builds the compact data files of the Mandarin front end (data/vallex/zh/).

Inputs (data only; no code of theirs is run or copied):
  --jieba DIR     jieba 0.42.1's package folder: dict.txt and finalseg/prob_start.py, prob_trans.py, prob_emit.py
                  (the wheel from PyPI, or Debian's python3-jieba 0.42.1: /usr/lib/python3/dist-packages/jieba)
  --pypinyin DIR  pypinyin 0.55.0's package folder: pinyin_dict.json and phrases_dict.json

Outputs (gzip, mtime 0, so a rerun over the same inputs gives the same bytes):
  jieba-dict.txt.gz   line 1: "total <sum of every line's count>" (jieba adds duplicates' counts to the total but keeps
                      the last count per word); then "word count" per distinct word, sorted by UTF-16 code units
                      (what .NET's ordinal comparison uses) so the runtime can binary-search it as loaded.
  jieba-hmm.txt.gz    the finalseg HMM: "start S logp", "trans S T logp", then "emit S char logp" (B, M, E, S).
                      Floats are Python's repr, which .NET parses back to the same double.
  pinyin-chars.txt.gz "char<TAB>reading": the first reading of each character (lazy_pinyin never uses the others).
  pinyin-phrases.txt.gz "phrase<TAB>reading reading ...": the first reading of each character of each phrase,
                      sorted by UTF-16 code units.
"""
import argparse
import ast
import gzip
import hashlib
import json
import os


def utf16_key(s):
    return s.encode('utf-16-be')


def write_gz(path, text):
    data = gzip.compress(text.encode('utf-8'), compresslevel=9, mtime=0)
    with open(path, 'wb') as f:
        f.write(data)
    return len(data), len(text.encode('utf-8'))


def literal_assignment(path):
    # The prob_*.py files hold one assignment "P = {...}" of literals: read it as data.
    with open(path, encoding='utf-8') as f:
        tree = ast.parse(f.read())
    for node in tree.body:
        if isinstance(node, ast.Assign) and node.targets[0].id == 'P':
            return ast.literal_eval(node.value)
    raise ValueError(f'{path}: no P = ... assignment')


def sha256(path):
    with open(path, 'rb') as f:
        return hashlib.sha256(f.read()).hexdigest()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--jieba', required=True)
    ap.add_argument('--pypinyin', required=True)
    ap.add_argument('--out', required=True)
    a = ap.parse_args()
    manifest = []

    # jieba dictionary: word -> count (last one wins), total = sum over all lines.
    dict_path = os.path.join(a.jieba, 'dict.txt')
    counts, total = {}, 0
    with open(dict_path, encoding='utf-8') as f:
        for line in f:
            line = line.strip()
            if not line:
                continue
            word, count = line.split(' ')[:2]
            counts[word] = int(count)
            total += int(count)
    lines = [f'total {total}'] + [f'{w} {counts[w]}' for w in sorted(counts, key=utf16_key)]
    manifest.append(('jieba-dict.txt.gz', dict_path, write_gz(os.path.join(a.out, 'jieba-dict.txt.gz'), '\n'.join(lines) + '\n')))

    # jieba finalseg HMM.
    fs = os.path.join(a.jieba, 'finalseg')
    start = literal_assignment(os.path.join(fs, 'prob_start.py'))
    trans = literal_assignment(os.path.join(fs, 'prob_trans.py'))
    emit = literal_assignment(os.path.join(fs, 'prob_emit.py'))
    lines = [f'start {s} {start[s]!r}' for s in 'BMES']
    lines += [f'trans {s} {t} {trans[s][t]!r}' for s in 'BMES' for t in sorted(trans[s])]
    for s in 'BMES':
        for ch in sorted(emit[s], key=utf16_key):
            assert len(ch) == 1 and ch not in ' \t\n'
            lines.append(f'emit {s} {ch} {emit[s][ch]!r}')
    manifest.append(('jieba-hmm.txt.gz', fs, write_gz(os.path.join(a.out, 'jieba-hmm.txt.gz'), '\n'.join(lines) + '\n')))

    # pypinyin single characters: the first reading only.
    chars_path = os.path.join(a.pypinyin, 'pinyin_dict.json')
    with open(chars_path, encoding='utf-8') as f:
        chars = {int(k): v for k, v in json.load(f).items()}
    lines = [f'{chr(cp)}\t{chars[cp].split(",")[0]}' for cp in sorted(chars)]
    manifest.append(('pinyin-chars.txt.gz', chars_path, write_gz(os.path.join(a.out, 'pinyin-chars.txt.gz'), '\n'.join(lines) + '\n')))

    # pypinyin phrases: the first reading of each character.
    phrases_path = os.path.join(a.pypinyin, 'phrases_dict.json')
    with open(phrases_path, encoding='utf-8') as f:
        phrases = json.load(f)
    lines = []
    for p in sorted(phrases, key=utf16_key):
        readings = [r[0] for r in phrases[p]]
        assert len(readings) == len(p) and all(' ' not in r and r for r in readings), p
        lines.append(f'{p}\t{" ".join(readings)}')
    manifest.append(('pinyin-phrases.txt.gz', phrases_path, write_gz(os.path.join(a.out, 'pinyin-phrases.txt.gz'), '\n'.join(lines) + '\n')))

    for name, src, (packed, raw) in manifest:
        print(f'{name}: {packed} bytes gzip ({raw} bytes text) from {os.path.basename(src)}'
              + (f' sha256 {sha256(src)}' if os.path.isfile(src) else ''))


if __name__ == '__main__':
    main()
