"""What the neural sentence encoders on the package registries add to our lexical ranking (README.md).

Reads the file `npm run eval -- --dump` writes; prints, per question set, recall@1/@5 and MRR of ours,
of each encoder alone, of the usual fusions, and of a re-ranker learned on the tuning sets; then
candidate recall at depth, how well each signal tells answerable from unanswerable questions (AUC),
and what encoding one question costs. Sets whose file name says "tuning" are the ones fitted on.
"""
import json
import re
import sys
import time

import numpy as np

from encoders import MiniLM, WordLlama

RERANK_DEPTH = 20
FUSION_WEIGHTS = (0.5, 1, 2)
STOP = set('a an the is are was were be been to of in on for and or how do does i my me we you it this that '
           'what which why when with can from as at by not no any there have has if so but about should would '
           'could get use using into than then its'.split())


def words(text):
    return {w[:6] for w in re.findall(r'[a-z0-9_]+', text.lower()) if w not in STOP and len(w) > 1}


def scores(orders, questions):
    r1 = r5 = rr = 0
    for order, q in zip(orders, questions):
        rank = next((k for k, i in enumerate(order[:10]) if i in q['relevant_set']), None)
        r1 += rank == 0
        r5 += rank is not None and rank < 5
        rr += 0 if rank is None else 1 / (rank + 1)
    n = len(questions)
    return f'{r1 / n:.2f} {r5 / n:.2f} {rr / n:.2f}'


def rrf(lists, weights):
    total = {}
    for ranking, weight in zip(lists, weights):
        for pos, i in enumerate(ranking):
            total[i] = total.get(i, 0) + weight / (60 + pos)
    return sorted(total, key=lambda i: -total[i])


def linear(q, sims, weight):
    ranking = q['ranking']
    if not ranking:
        return []
    top = ranking[0]['score']
    fused = {h['passage']: h['score'] / top + weight * sims[h['passage']] for h in ranking}
    return sorted(fused, key=lambda i: -fused[i])


def features(q, sims, passages, passage_words):
    asked = words(q['question'])
    n = max(len(asked), 1)
    hits = q['ranking'][:RERANK_DEPTH]
    rows = []
    for pos, h in enumerate(hits):
        p, (title, body) = passages[h['passage']], passage_words[h['passage']]
        row = [h['score'] / hits[0]['score'], 1 / (pos + 1), len(asked & title) / n, len(asked & (title | body)) / n,
               np.log1p(len(p['text'])) / 10]
        row += [float(p['kind'] == kind) for kind in ('doc', 'rust-doc', 'sample', 'tool-versions', 'faq')]
        row += [float(p['file'].startswith('linux/Documentation/rust')), float(p['file'].startswith('rust-for-linux.com'))]
        if sims is not None:
            row.append(float(sims[h['passage']]))
        rows.append(row)
    return [h['passage'] for h in hits], np.array(rows)


def fit_pairwise(lists):
    """Pairwise logistic regression: each relevant candidate above each other candidate of its list."""
    pairs = [x[a] - x[b] for ids, x, rel in lists
             for a in range(len(ids)) if ids[a] in rel for b in range(len(ids)) if ids[b] not in rel]
    d = np.array(pairs)
    w = np.zeros(d.shape[1])
    for _ in range(300):
        w += (d * (1 / (1 + np.exp(d @ w)))[:, None]).mean(0) - w / len(d)
    return w


def is_tuning(name):
    """The sets the learned re-ranker is fitted on and the abstention signals compared on."""
    return 'tuning' in name or name == 'questions.jsonl'


def auc(values, answerable):
    pos = [v for v, a in zip(values, answerable) if a]
    neg = [v for v, a in zip(values, answerable) if not a]
    wins = sum((p > n) + 0.5 * (p == n) for p in pos for n in neg)
    return wins / (len(pos) * len(neg))


def main(dump_file, minilm_dir, wordllama_dir):
    dump = json.load(open(dump_file))
    passages = dump['passages']
    texts = [' '.join(p['sectionPath']) + '\n' + p['text'] for p in passages]
    passage_words = [(words(' '.join(p['sectionPath'])), words(p['text'] + ' '.join(p['code']))) for p in passages]
    encoders = {'minilm': MiniLM(minilm_dir), 'wordllama': WordLlama(wordllama_dir)}
    started = time.time()
    passage_vectors = {name: e.encode(texts) for name, e in encoders.items()}
    print(f'{len(passages)} passages encoded in {time.time() - started:.0f} s')
    sets = []
    for s in dump['sets']:
        for q in s['questions']:
            q['relevant_set'] = set(q['relevant'])
        questions = [q['question'] for q in s['questions']]
        sims = {name: e.encode(questions) @ passage_vectors[name].T for name, e in encoders.items()}
        dense = {name: np.argsort(-sim, axis=1)[:, :50] for name, sim in sims.items()}
        sets.append((s['file'].split('/')[-1], s['questions'], sims, dense))

    learned = {}
    for variant in ('lexical', 'minilm'):
        lists = [(*features(q, sims['minilm'][k] if variant == 'minilm' else None, passages, passage_words),
                  q['relevant_set'])
                 for name, qs, sims, _ in sets if is_tuning(name)
                 for k, q in enumerate(qs) if q['answerable']]
        learned[variant] = fit_pairwise(lists)

    print('\nR@1 R@5 MRR per set (answerable questions); fusions use our top 50, the re-rankers our top 20')
    for name, qs, sims, dense_orders in sets:
        keep = [k for k, q in enumerate(qs) if q['answerable']]
        if not keep:
            continue
        answerable = [qs[k] for k in keep]
        ours = [[h['passage'] for h in q['ranking']] for q in answerable]
        line = {'ours': scores(ours, answerable)}
        for enc in encoders:
            dense = [list(dense_orders[enc][k]) for k in keep]
            line[f'{enc} alone'] = scores(dense, answerable)
            line[f'{enc} rrf'] = scores([rrf([o, d], [1, 0.5]) for o, d in zip(ours, dense)], answerable)
            for weight in FUSION_WEIGHTS:
                line[f'{enc} +{weight}cos'] = scores([linear(qs[k], sims[enc][k], weight) for k in keep], answerable)
        for variant, w in learned.items():
            orders = []
            for k in keep:
                ids, x = features(qs[k], sims['minilm'][k] if variant == 'minilm' else None, passages, passage_words)
                orders.append([ids[j] for j in np.argsort(-(x @ w))] if ids else [])
            line[f'learned {variant}'] = scores(orders, answerable)
        print(f'\n{name} ({len(keep)} answerable)')
        for label, value in line.items():
            print(f'  {label:20} {value}')

    print('\ncandidate recall: a relevant passage among the top K (ours | minilm | either)')
    for name, qs, _, dense_orders in sets:
        keep = [k for k, q in enumerate(qs) if q['answerable']]
        if not keep:
            continue
        cells = []
        for depth in (5, 20, 50):
            found = {'ours': 0, 'minilm': 0, 'either': 0}
            for k in keep:
                ours = {h['passage'] for h in qs[k]['ranking'][:depth]}
                dense = set(dense_orders['minilm'][k][:depth].tolist())
                for label, candidates in (('ours', ours), ('minilm', dense), ('either', ours | dense)):
                    found[label] += bool(candidates & qs[k]['relevant_set'])
            cells.append(f'@{depth} ' + ' | '.join(f'{n / len(keep):.2f}' for n in found.values()))
        print(f'  {name:26} ' + '   '.join(cells))

    print('\nanswerable vs unanswerable, AUC on the tuning sets (1 = always told apart, 0.5 = chance)')
    tuning = [(q, sims, k) for name, qs, sims, _ in sets if is_tuning(name) for k, q in enumerate(qs)]
    answerable = [q['answerable'] for q, _, _ in tuning]
    print(f"  our confidence       {auc([q['confidence'] for q, _, _ in tuning], answerable):.3f}")
    for enc in encoders:
        top = [sims[enc][k][q['ranking'][0]['passage']] if q['ranking'] else 0 for q, sims, k in tuning]
        best = [sims[enc][k].max() for q, sims, k in tuning]
        print(f'  {enc} cos, our top   {auc(top, answerable):.3f}')
        print(f'  {enc} cos, best      {auc(best, answerable):.3f}')

    sample = [q['question'] for _, qs, _, _ in sets for q in qs][:60]
    times = []
    for text in sample:
        started = time.perf_counter()
        encoders['minilm'].encode([text])
        times.append((time.perf_counter() - started) * 1000)
    times.sort()
    print(f'\nminilm, one question: median {times[len(times) // 2]:.0f} ms, p95 {times[int(len(times) * 0.95)]:.0f} ms '
          '(numpy on this machine; retrieve() p95 target: 2 ms)')


if __name__ == '__main__':
    main(*sys.argv[1:4])
