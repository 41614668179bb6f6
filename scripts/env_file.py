"""Writes /etc/tessera/tessera.env from `tessera-server --help` (read on stdin): each
TESSERA_ setting with its help text, commented out with its default, except the database,
which the package puts in the service's state directory."""
import re
import sys

SKIP = {"TESSERA_DEMO", "TESSERA_DEMO_PASSWORD", "TESSERA_ASSETS"}
SET = {"TESSERA_DATABASE_URL": "sqlite:///var/lib/tessera/tessera.db"}

print("# Tessera's settings, read by the tessera service (systemctl restart tessera to apply).")
print("# Each line is a flag of `tessera-server --help` as an environment variable.")
print("# On first start the generated admin password is in the journal: journalctl -u tessera")
help_text = sys.stdin.read()
options = help_text.split("Options:", 1)[1]
for block in re.split(r"\n(?=\s+-)", options):
    env = re.search(r"\[env: (TESSERA_[A-Z_]+)=?([^\]]*)\]", block)
    if not env or env.group(1) in SKIP:
        continue
    name = env.group(1)
    default = re.search(r"\[default: ([^\]]*)\]", block)
    text = re.sub(r"\s*\[(env|default|possible values): [^\]]*\]", "", block)
    text = " ".join(text.split()[1:])  # the description, without the flag itself
    text = re.sub(r"^<[A-Z_]+>\s*", "", text)
    print()
    print(f"# {text}")
    if name in SET:
        print(f"{name}={SET[name]}")
    else:
        flag_only = not re.match(r"\s*--\S+ <", block)
        value = default.group(1) if default else ("false" if flag_only else "")
        print(f"#{name}={value}")
