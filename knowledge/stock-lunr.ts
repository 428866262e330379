/**
 * Stock lunr (its defaults: tokenizer, stop words, stemmer, BM25) over the same passages and fields as
 * our index: the baseline that `npm run bench` (speed, memory) and `npm run eval` (retrieval quality)
 * compare ours with.
 */
import lunr from 'lunr';
import type { Passage } from './passage.ts';
import { FIELDS, fieldTexts } from './search-index.ts';

export function buildStockLunr(passages: Passage[]): lunr.Index {
  return lunr(function () {
    this.ref('id');
    for (const field of FIELDS) this.field(field);
    passages.forEach((passage) => {
      this.add({ id: passage.id, ...fieldTexts(passage) });
    });
  });
}

/**
 * A question through stock lunr's own tokenizer and trimmer, then `q.term` (stemmed and stop-word
 * filtered by its search pipeline): unlike `index.search`, it never throws on query syntax (`:`, `~`, `^`).
 */
export function searchStockLunr(index: lunr.Index, question: string): lunr.Index.Result[] {
  return index.query((q) => {
    for (const token of lunr.tokenizer(question)) {
      const term = lunr.trimmer(token).toString().replaceAll('*', '');
      if (term !== '') q.term(term, {});
    }
  });
}
