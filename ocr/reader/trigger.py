"""The video trigger: one read per passing item, not one per frame.

Rule (`presence`): a pixel of the region is *covered* when its grey level differs from the empty
region (the background) by more than `diff`. An item is read once, on the first frame where it
covers at least `cover` of the region (it has fully entered); the trigger re-arms when coverage
falls below `leave` (the item is leaving: its trailing edge is in the region). Items must be
spaced by at least (1 - leave) of the region's width for the gap between them to re-arm it. An
item that covers at least `enter` of the region and leaves it (coverage below `enter`) without
ever reaching `cover` is reported (`passed`), not silently lost (one that follows a read item so
closely that the region never empties between them cannot be told apart from it).
Holes in the covered area narrower than 5 compared pixels (print, artwork the belt's grey) are
closed first. The background is the first frame, then follows slow light changes (weight `adapt` a frame) while
the region is empty (coverage below `enter`). The region is compared at 1/`scale` resolution.
"""
import cv2
import numpy as np

FIRE, PASSED = "fire", "passed"
# states: nothing in the region; an item coming in; read; the read item going out
WAIT, ARRIVING, READ, LEAVING = "wait", "arriving", "read", "leaving"


class PresenceTrigger(object):
    DEFAULTS = {"diff": 30, "enter": 0.2, "cover": 0.95, "leave": 0.8, "adapt": 0.05, "scale": 4}
    RANGES = {"diff": (1, 255), "enter": (0.0, 1.0), "cover": (0.0, 1.0), "leave": (0.0, 1.0),
              "adapt": (0.0, 1.0), "scale": (1, 32)}

    def __init__(self, **settings):
        unknown = set(settings) - set(self.DEFAULTS) - {"rule"}
        if unknown:
            raise ValueError("unknown trigger setting(s): " + ", ".join(sorted(unknown)))
        conf = dict(self.DEFAULTS, **{k: v for k, v in settings.items() if k != "rule"})
        self.diff, self.enter, self.cover = conf["diff"], conf["enter"], conf["cover"]
        self.leave, self.adapt, self.scale = conf["leave"], conf["adapt"], int(conf["scale"])
        self.kernel = np.ones((5, 5), np.uint8)
        self.background = None
        self.state = WAIT
        self.coverage = 0.0
        self.items = 0

    def _small_gray(self, image):
        gray = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY) if image.ndim == 3 else image
        h, w = gray.shape
        size = (max(1, w // self.scale), max(1, h // self.scale))
        return cv2.resize(gray, size, interpolation=cv2.INTER_AREA).astype(np.float32)

    def update(self, region_image):
        """Feed the region of one frame -> FIRE (read this frame), PASSED (an item left unread) or None."""
        small = self._small_gray(region_image)
        if self.background is None or self.background.shape != small.shape:
            self.background = small
            return None
        covered = (np.abs(small - self.background) > self.diff).astype(np.uint8)
        # close small holes: print and artwork on an item may match the belt's grey
        covered = cv2.morphologyEx(covered, cv2.MORPH_CLOSE, self.kernel)
        self.coverage = c = float(covered.mean())
        if c < self.enter:
            self.background += self.adapt * (small - self.background)
        if self.state == READ:
            if c < self.leave:
                self.state = LEAVING
            return None
        if c >= self.cover:
            self.state, self.items = READ, self.items + 1
            return FIRE
        if c < self.enter:
            passed = self.state == ARRIVING
            self.state = WAIT
            if passed:
                self.items += 1
                return PASSED
        elif self.state == WAIT:
            self.state = ARRIVING
        return None
