"""The exceptions the assistant raises; front ends catch `AssistantError`.

    AssistantError
    ├── ConfigError        a setting or flag that cannot work
    ├── SourceError        a file or text that cannot be read as an article
    ├── IndexMissingError  no index where one was expected
    ├── IndexBusyError     an index another process is writing
    ├── AnswerError        a question that cannot be asked (empty, malformed history)
    └── LimitError         an input over a configured limit (a question, an upload)
"""


class AssistantError(Exception):
    """Root of every error a user may see; its message names the input and the fix."""


class ConfigError(AssistantError):
    pass


class SourceError(AssistantError):
    pass


class IndexMissingError(AssistantError):
    pass


class IndexBusyError(AssistantError):
    pass


class AnswerError(AssistantError):
    pass


class LimitError(AssistantError):
    pass
