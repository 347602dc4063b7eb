"""Print `N passed, N failed` for an nbdev_test log: one test per notebook that nbdev_test ran."""
import re, sys
from pathlib import Path

log, nbs = Path(sys.argv[1]).read_text(errors='replace'), Path(sys.argv[2])
# nbdev_test skips notebooks whose names start with '_' or '.'
tested = sorted(p.name for p in nbs.rglob('*.ipynb') if not re.match(r'[_.]', p.name) and '.ipynb_checkpoints' not in p.parts)
failed = set()
if 'nbdev Tests Failed On The Following Notebooks' in log:
    tail = log.split('nbdev Tests Failed On The Following Notebooks', 1)[1]
    failed = {name for name in tested if re.search(r'^\s+' + re.escape(name) + r'\s*$', tail, re.M)}
    if not failed: failed = {'(unparsed failure)'}
for name in tested: print(f"{'FAIL' if name in failed else 'ok  '} {name}")
print(f"{len(tested) - len(failed & set(tested))} passed, {len(failed)} failed")
