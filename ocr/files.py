"""Files written atomically (temp file + rename): readers see the old file or the whole new one,
never a part, so an interrupted run or a full disk loses nothing. Used by the bench's result files,
the reader's outputs and training's threshold file alike (one writer, at the lowest layer)."""
import io
import json
import os
import tempfile


def umask():
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def write_atomic(path, write, overwrite=True):
    """Call write(file) on a temp file beside `path`, then put it in place, so that readers see
    the old file or the whole new one, never a part (an interrupt or a full disk leaves nothing).
    With overwrite=False an existing file is kept and FileExistsError raised (a result file is
    never replaced). The file gets the user's umask (mkstemp alone would make it 0600)."""
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        os.makedirs(folder)
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=os.path.splitext(path)[1], dir=folder)
    try:
        with io.open(fd, "w", encoding="utf-8", newline="") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o666 & ~umask())
        if overwrite:
            os.replace(tmp, path)
        else:
            _publish_new(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return path


def write_json_atomic(path, obj, overwrite=True):
    return write_atomic(path, lambda f: json.dump(obj, f, indent=1, sort_keys=False), overwrite)


def _publish_new(tmp, path):
    try:
        os.link(tmp, path)  # atomic, and refuses an existing name (rename would replace it)
    except FileExistsError:
        raise
    except OSError:  # a file system without hard links
        if os.path.exists(path):
            raise FileExistsError("{} exists".format(path)) from None
        os.replace(tmp, path)
    else:
        os.unlink(tmp)
