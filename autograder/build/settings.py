"""The otter settings every homework's autograder shares: the repository's ``otter_config.json``.

``build`` merges them into the ``otter_config.json`` of each homework's zip, where the plugin also gets the
homework's name, and refuses a master whose ``generate`` block says otherwise.
"""

from __future__ import annotations

import json
import os

import yaml

from autograder.sandbox.protocol import Limits

PLUGIN = "autograder.otter_plugin.GradingPlugin"
FILE = "otter_config.json"


class SettingsError(ValueError):
    pass


def shared(root: str) -> dict:
    """The root's settings, with the plugin's options checked."""
    path = os.path.join(root, FILE)
    try:
        with open(path, encoding="utf-8") as f:
            config = json.load(f)
    except (OSError, ValueError) as e:
        raise SettingsError(f"{FILE}: cannot be read ({e})") from e
    if _plugin_entry(config) is None:
        raise SettingsError(f"{FILE}: its plugins do not name {PLUGIN}, which grades every submission")
    if unknown := sorted(set(plugin_options(config)) - set(Limits.OPTIONS)):
        raise SettingsError(f"{FILE}: the plugin has no options {unknown}; it has {list(Limits.OPTIONS)} "
                            "(and each homework's name, which comes from its master)")
    return config


def plugin_options(config: dict) -> dict:
    """The options ``config`` gives our plugin (empty when it does not name it)."""
    return _plugin_entry(config) or {}


def _plugin_entry(config: dict) -> dict | None:
    for entry in config.get("plugins", []):
        if isinstance(entry, dict) and PLUGIN in entry:
            return entry[PLUGIN] or {}
    return None


def disagreements(master: str, config: dict) -> list[str]:
    """Where the ``generate`` block of the master notebook at ``master`` contradicts the shared ``config``."""
    generate, options = _generate_block(master), plugin_options(config)
    found = [f"the plugin's {option} is {mine!r}, {FILE} says {options[option]!r}"
             for option, mine in plugin_options(generate).items() if option in options and options[option] != mine]
    found += [f"generate.{key} is {value!r}, {FILE} says {config[key]!r}"
              for key, value in generate.items() if key != "plugins" and key in config and config[key] != value]
    return found


def merged(zip_config: dict, config: dict, assignment: str) -> dict:
    """The zip's ``otter_config.json``: what otter assign wrote, the shared settings over it, and the plugin's options
    with the homework's name. Without ``assignment_name``, otter grades a notebook whose metadata lacks the name (cells
    copied into a new notebook), and the plugin tells another homework's notebook apart."""
    out = {key: value for key, value in zip_config.items() if key != "assignment_name"}
    out.update({key: value for key, value in config.items() if key != "plugins"})
    out["plugins"] = [{PLUGIN: {**plugin_options(config), "assignment": assignment}}]
    return out


def _generate_block(master: str) -> dict:
    with open(master, encoding="utf-8") as f:
        nb = json.load(f)
    first = "".join(nb["cells"][0]["source"]) if nb.get("cells") else ""
    if not first.startswith("# ASSIGNMENT CONFIG"):
        raise SettingsError(f"{master}: its first cell is not otter's '# ASSIGNMENT CONFIG'")
    generate = (yaml.safe_load(first) or {}).get("generate")
    return generate if isinstance(generate, dict) else {}
