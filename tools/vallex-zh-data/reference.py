#!/usr/bin/env python3
"""Reference outputs of upstream's chinese_to_ipa, to compare the C# Mandarin G2P with over many inputs.

Runs Plachtaa/VALL-E-X utils/g2p/mandarin.py itself (imported from the given file, not copied) over jieba 0.42.1,
pypinyin 0.55.0 and cn2an 0.5.23, which must be importable (PYTHONPATH). Writes "input<TAB>output" lines (tabs and
newlines in either become spaces in the input set, so none occur).

Inputs: --chars (every code point U+4E00..U+9FFF on its own), --phrases DATA_DIR (every phrase of
pinyin-phrases.txt.gz), --synthetic N (N random sentences from jieba-dict.txt.gz words, numbers, Latin letters and
punctuation; --seed), --file PATH (one input per line).

  PYTHONPATH=<jieba>:<pypinyin>:<cn2an>[:<proces>] python3 tools/vallex-zh-data/reference.py \
      --mandarin <VALL-E-X>/utils/g2p/mandarin.py --chars --phrases data/vallex/zh --synthetic 5000 > /tmp/zh-ref.tsv
  VALLE_ZH_REFERENCE=/tmp/zh-ref.tsv dotnet test tests/VallE.Tests -c Release --filter FullyQualifiedName~MandarinReference
"""
import argparse
import gzip
import importlib.util
import logging
import os
import random
import sys


def load_mandarin(path):
    spec = importlib.util.spec_from_file_location('vallex_mandarin', path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def data_lines(data_dir, name):
    with gzip.open(os.path.join(data_dir, name), 'rt', encoding='utf-8') as f:
        return f.read().splitlines()


def synthetic(n, seed, data_dir):
    rng = random.Random(seed)
    words = [l.rsplit(' ', 1)[0] for l in data_lines(data_dir, 'jieba-dict.txt.gz')[1:]]
    han = [chr(c) for c in range(0x4E00, 0x9FA6)]
    punct = list('，。！？、；：“”（）—…·') + [',', '.', '!', '?', ' ', '-', '%']
    latin = ['AI', 'GPU', 'iPhone', 'Windows', 'ok', 'x', 'KTV', 'T恤', 'C++', 'e.g.']
    out = []
    for _ in range(n):
        parts = []
        for _ in range(rng.randint(1, 12)):
            r = rng.random()
            if r < 0.6:
                parts.append(rng.choice(words))
            elif r < 0.75:
                parts.append(''.join(rng.choice(han) for _ in range(rng.randint(1, 4))))
            elif r < 0.85:
                parts.append(rng.choice(punct))
            elif r < 0.93:
                d = str(rng.randint(0, 10 ** rng.randint(1, 9)))
                if rng.random() < 0.3:
                    d += '.' + str(rng.randint(0, 999))
                parts.append(d + (rng.choice(['%', '', '年', '个']) if rng.random() < 0.5 else ''))
            else:
                parts.append(rng.choice(latin))
        out.append(''.join(parts))
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--mandarin', required=True)
    ap.add_argument('--chars', action='store_true')
    ap.add_argument('--phrases')
    ap.add_argument('--synthetic', type=int, default=0)
    ap.add_argument('--seed', type=int, default=14)
    ap.add_argument('--data', default='data/vallex/zh')
    ap.add_argument('--file')
    a = ap.parse_args()
    import jieba
    jieba.setLogLevel(logging.ERROR)
    mandarin = load_mandarin(a.mandarin)

    inputs = []
    if a.chars:
        inputs += [chr(c) for c in range(0x4E00, 0xA000)]
    if a.phrases:
        inputs += [l.split('\t', 1)[0] for l in data_lines(a.phrases, 'pinyin-phrases.txt.gz')]
    if a.synthetic:
        inputs += synthetic(a.synthetic, a.seed, a.data)
    if a.file:
        with open(a.file, encoding='utf-8') as f:
            inputs += [l.rstrip('\n') for l in f]
    out = sys.stdout
    for text in inputs:
        text = text.replace('\t', ' ').replace('\r', ' ').replace('\n', ' ')
        try:
            ipa = mandarin.chinese_to_ipa(text)
        except Exception as e:  # upstream raises (e.g. cn2an's range): the C# side must refuse too
            ipa = '!ERROR ' + type(e).__name__
        out.write(f'{text}\t{ipa}\n')


if __name__ == '__main__':
    main()
