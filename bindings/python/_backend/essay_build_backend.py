"""In-tree PEP 517 backend: setuptools, plus a fallback for a bare venv.

setuptools before 70.1 builds wheels (and even wheel metadata) through the
separate ``wheel`` package, which a fresh ``python3 -m venv`` of Python 3.9
to 3.11 does not contain, and venvs of Python 3.12+ contain no setuptools
at all.  ``pip install --no-build-isolation`` installs no build
requirements, so offline it would fail ("invalid command 'bdist_wheel'",
"No module named 'setuptools'").  When setuptools can build wheels, every
hook is setuptools.build_meta's own.  Otherwise this module builds with the
standard library: the package is pure Python, so a wheel is just the
``essay/`` files plus ``*.dist-info`` (METADATA from pyproject.toml's
[project] table, WHEEL, entry_points.txt, RECORD), and an sdist is a
tarball of the source files with PKG-INFO.
"""

import base64
import hashlib
import io
import os
import re
import tarfile
import zipfile

try:
    from setuptools import build_meta as _setuptools
except ImportError:
    _setuptools = None


def _setuptools_has_bdist_wheel():
    if _setuptools is None:
        return False
    try:
        import setuptools.command.bdist_wheel  # noqa: F401  (setuptools >= 70.1)
        return True
    except ImportError:
        pass
    try:
        import wheel.bdist_wheel  # noqa: F401
        return True
    except ImportError:
        return False


HERE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

if _setuptools is not None:
    build_sdist = _setuptools.build_sdist
    get_requires_for_build_sdist = _setuptools.get_requires_for_build_sdist

if _setuptools_has_bdist_wheel():
    build_wheel = _setuptools.build_wheel
    get_requires_for_build_wheel = _setuptools.get_requires_for_build_wheel
    prepare_metadata_for_build_wheel = _setuptools.prepare_metadata_for_build_wheel
    if hasattr(_setuptools, "build_editable"):
        build_editable = _setuptools.build_editable
        get_requires_for_build_editable = _setuptools.get_requires_for_build_editable
        prepare_metadata_for_build_editable = \
            _setuptools.prepare_metadata_for_build_editable
else:
    def _project():
        """The [project] and [project.scripts] tables of pyproject.toml."""
        path = os.path.join(HERE, "pyproject.toml")
        try:
            import tomllib
        except ImportError:
            tomllib = None
        if tomllib is not None:
            with open(path, "rb") as f:
                project = tomllib.load(f)["project"]
            return project, project.get("scripts", {})
        # Python < 3.11: the small subset of TOML this pyproject.toml uses.
        with open(path, encoding="utf-8") as f:
            text = f.read()
        tables, name = {}, None
        for m in re.finditer(r'^\[([^\]]+)\]\s*$|^([\w-]+)\s*=\s*("[^"]*"|\[[^\]]*\])',
                             text, flags=re.M):
            if m.group(1):
                name = m.group(1).strip()
                tables.setdefault(name, {})
            elif name is not None:
                value = m.group(3)
                if value.startswith("["):
                    value = re.findall(r'"([^"]*)"', value)
                else:
                    value = value[1:-1]
                tables[name][m.group(2)] = value
        return tables["project"], tables.get("project.scripts", {})

    def _names():
        project, scripts = _project()
        name = re.sub(r"[-_.]+", "_", project["name"])
        return project, scripts, "%s-%s" % (name, project["version"])

    def _metadata(project):
        lines = ["Metadata-Version: 2.1", "Name: " + project["name"],
                 "Version: " + project["version"]]
        if project.get("description"):
            lines.append("Summary: " + project["description"])
        if project.get("requires-python"):
            lines.append("Requires-Python: " + project["requires-python"])
        for c in project.get("classifiers", []):
            lines.append("Classifier: " + c)
        body = ""
        readme = project.get("readme")
        if isinstance(readme, str):
            lines.append("Description-Content-Type: text/markdown")
            with open(os.path.join(HERE, readme), encoding="utf-8") as f:
                body = "\n" + f.read()
        return "\n".join(lines) + "\n" + body

    def _dist_info_files(editable=False):
        project, scripts, stem = _names()
        files = {
            "METADATA": _metadata(project),
            "WHEEL": ("Wheel-Version: 1.0\nGenerator: essay_build_backend\n"
                      "Root-Is-Purelib: true\nTag: py3-none-any\n"),
            "top_level.txt": "essay\n",
        }
        if scripts:
            files["entry_points.txt"] = "[console_scripts]\n" + "".join(
                "%s = %s\n" % kv for kv in sorted(scripts.items()))
        return stem, files

    def get_requires_for_build_wheel(config_settings=None):
        return []

    def prepare_metadata_for_build_wheel(metadata_directory, config_settings=None):
        stem, files = _dist_info_files()
        d = os.path.join(metadata_directory, stem + ".dist-info")
        os.makedirs(d, exist_ok=True)
        for name, text in files.items():
            with open(os.path.join(d, name), "w", encoding="utf-8") as f:
                f.write(text)
        return stem + ".dist-info"

    def _write_wheel(wheel_directory, members):
        stem, files = _dist_info_files()
        info = stem + ".dist-info"
        members = list(members) + [(info + "/" + n, t.encode("utf-8"))
                                   for n, t in sorted(files.items())]
        record = []
        wheel_name = stem + "-py3-none-any.whl"
        with zipfile.ZipFile(os.path.join(wheel_directory, wheel_name), "w",
                             zipfile.ZIP_DEFLATED) as z:
            for arcname, data in members:
                z.writestr(arcname, data)
                digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest())
                record.append("%s,sha256=%s,%d" % (arcname, digest.rstrip(b"=").decode(),
                                                  len(data)))
            record.append(info + "/RECORD,,")
            z.writestr(info + "/RECORD", "\n".join(record) + "\n")
        return wheel_name

    def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
        pkg = os.path.join(HERE, "essay")
        members = []
        for name in sorted(os.listdir(pkg)):
            path = os.path.join(pkg, name)
            if os.path.isfile(path) and (name.endswith(".py") or name == "py.typed"):
                with open(path, "rb") as f:
                    members.append(("essay/" + name, f.read()))
        return _write_wheel(wheel_directory, members)

    def get_requires_for_build_editable(config_settings=None):
        return []

    prepare_metadata_for_build_editable = prepare_metadata_for_build_wheel

    def build_editable(wheel_directory, config_settings=None, metadata_directory=None):
        """PEP 660: a wheel holding a .pth file that points at this tree."""
        return _write_wheel(wheel_directory, [("__editable__.essay.pth",
                                               (HERE + "\n").encode("utf-8"))])

    if _setuptools is None:
        def get_requires_for_build_sdist(config_settings=None):
            return []

        def build_sdist(sdist_directory, config_settings=None):
            """A tarball of pyproject.toml, README.md, essay/ and _backend/."""
            project, _, stem = _names()
            names = ["pyproject.toml", "README.md"]
            for sub in ("essay", "_backend"):
                names += [sub + "/" + n for n in sorted(os.listdir(os.path.join(HERE, sub)))
                          if n.endswith(".py") or n == "py.typed"]
            path = os.path.join(sdist_directory, stem + ".tar.gz")
            with tarfile.open(path, "w:gz", format=tarfile.PAX_FORMAT) as tar:
                for n in names:
                    tar.add(os.path.join(HERE, n), arcname=stem + "/" + n)
                info = _metadata(project).encode("utf-8")
                ti = tarfile.TarInfo(stem + "/PKG-INFO")
                ti.size = len(info)
                tar.addfile(ti, io.BytesIO(info))
            return os.path.basename(path)
