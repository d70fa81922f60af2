"""Reference and wrong implementations of every lab exercise, one module per lab.

They stay out of the installed package on purpose: a class that withholds solutions/
must not hand learners a working answer inside llmlab.checks. Each module defines

    REFERENCE = {check_name: implementation that must pass it}
    WRONG = {check_name: [plausible mistakes it must catch]}

and tests/test_labs.py runs every check against both (offline cases only: the live
cases need a lab's replayed client and are covered by executing the solutions)."""
