"""The building blocks of judgement that every homework's declarations use: hidden inputs and requests (``asking``),
comparisons with the reference and their messages (``compare``), gradcheck on the student's own pair (``gradcheck``),
and what a judgement is made of (``results``: checks, questions, submissions). Nothing here knows a homework."""
