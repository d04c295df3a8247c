"""The interfaces people and tools use: the FastAPI app with its JSON API, the OpenAI-compatible
/v1, the MCP server, the Gradio web chat and how it shows an answer, the JSON shapes they share
and the token that guards them."""
