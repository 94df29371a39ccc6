import { newTrackingNumber, TRACKING_NUMBER } from './shipment';

describe('newTrackingNumber', () => {
  it('groups ten random digits as FC-dddd-dddd-dd', () => {
    const digits = [1, 2, 3, 4, 5, 6, 7, 8, 9, 0];
    const asked: number[] = [];
    let next = 0;
    const tracking = newTrackingNumber((max) => {
      asked.push(max);
      return digits[next++];
    });
    expect(tracking).toBe('FC-1234-5678-90');
    expect(asked).toEqual(Array(10).fill(10));
  });

  it('matches TRACKING_NUMBER with the default random source', () => {
    for (let i = 0; i < 20; i += 1) {
      expect(newTrackingNumber()).toMatch(TRACKING_NUMBER);
    }
  });

  it.each(['FC-1234-5678-9', 'FC-1234-5678-901', 'XX-1234-5678-90', 'FC-12a4-5678-90'])(
    'TRACKING_NUMBER rejects %p',
    (value) => {
      expect(value).not.toMatch(TRACKING_NUMBER);
    },
  );
});
