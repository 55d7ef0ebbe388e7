// Imports every module that registers a work kind, so both worker hosts know them all.
// (Resource modules add their imports here as they gain long actions.)
import '../image/managedImage';
import '../volume/work';
import '../compute/servers/build';
import '../compute/servers/actions/resizeWork';
import '../compute/servers/actions/imageWork';
import '../compute/servers/actions/password';
import '../compute/servers/actions/rebuildWork';
import '../compute/servers/actions/powerWork';
import '../compute/volumeAttachWork';

export {};
