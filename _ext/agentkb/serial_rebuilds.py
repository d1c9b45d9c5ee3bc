"""A rebuild that reads only a few pages runs in one process, whatever ``-j`` says.

Sphinx up to 8 read in parallel only when more than five documents had changed; Sphinx 9
forks its workers for any number. Each worker pickles the whole environment back to the
main process, which unpickles and merges it, and writing forks again: at 207 agents that
is about 0.3 s of a 3 s rebuild after one agent is edited (`bench/build_times.py`
measures both ways), while a single page is read and written in less time than the forks
take. A clean build or a change that reads more than :data:`FEW_DOCUMENTS` pages keeps
every process ``-j`` asked for.

The number of jobs is the application's own setting (Sphinx's tests set it the same
way); it is put back once the build has finished, so an application that builds again
starts from what it was given.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sphinx.util import logging

if TYPE_CHECKING:
    from sphinx.application import Sphinx
    from sphinx.environment import BuildEnvironment

logger = logging.getLogger(__name__)

#: Sphinx 8's threshold: it read in parallel only when more documents than this had changed.
FEW_DOCUMENTS = 5


def _read_few_in_one_process(app: Sphinx, env: BuildEnvironment, docnames: list[str]) -> None:
    jobs = app.parallel
    if jobs <= 1 or len(docnames) > FEW_DOCUMENTS:
        return
    logger.verbose("%d documents to read: reading and writing them in one process", len(docnames))
    app.parallel = 1

    def restore(app: Sphinx, exception: BaseException | None) -> None:
        app.parallel = jobs
        app.disconnect(listener)

    listener = app.connect("build-finished", restore)


def setup(app: Sphinx) -> None:
    # Last in line, after every handler that may add documents to read.
    app.connect("env-before-read-docs", _read_few_in_one_process, priority=950)
