// The photos a form sends as `images` (a complaint, a review): picked and uploaded at once
// (utils/upload.js), at most upload.MAX_IMAGES, `uploading` while they go (the page's submit
// waits for it), one removed by its data-index.
const api = require('./api');
const upload = require('./upload');

const PHOTO_HANDLERS = {
  onAddPhotos() {
    const left = upload.MAX_IMAGES - this.data.images.length;
    if (left <= 0 || this.data.uploading) return Promise.resolve();
    return upload.chooseImages(left).then((paths) => {
      if (!paths.length) return null;
      this.setData({ uploading: true });
      return upload.uploadAll(paths).then(
        (urls) => this.setData({ images: this.data.images.concat(urls), uploading: false }),
        (err) => {
          this.setData({ uploading: false });
          api.showError(err);
        }
      );
    });
  },

  onRemovePhoto(e) {
    const i = Number(e.currentTarget.dataset.index);
    this.setData({ images: this.data.images.filter((_, j) => j !== i) });
  },
};

// The options of Page() with the photo list's data (images, uploading) and handlers added.
function photoListPage(options) {
  return Object.assign({}, PHOTO_HANDLERS, options, {
    data: Object.assign({ images: [], uploading: false }, options.data),
  });
}

module.exports = { photoListPage };
