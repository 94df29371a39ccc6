import { ficus } from '../flags/flags-cli';

/**
 * What `ficus console` refuses before it listens: an admin's password and token must not cross a
 * network in clear by default, and the names it answers to must be names.
 */
describe('ficus console refuses to start', () => {
  it("when the processes' operations ports are plain HTTP on other machines (it sends them an admin's token)", async () => {
    const refused = await ficus(['console', '--topology', 'infra/topology/compose.yaml', '--port', '0']);
    expect(refused.code).toBe(2);
    expect(refused.err).toMatch(/the operations ports of http:\/\/catalog:\d+, .* are plain HTTP on other machines/);
    expect(refused.err).toMatch(/--plain-http on a network you trust/);
  });

  it("when the shop's URL is plain HTTP on another machine (admins sign in there)", async () => {
    const refused = await ficus(['console', '--shop-url', 'http://shop.example.com:3000', '--port', '0']);
    expect(refused.code).toBe(2);
    expect(refused.err).toMatch(/is plain HTTP on another machine/);
  });

  it('when a public name is no host name', async () => {
    for (const name of ['evil example', 'shop.example.com:3999', 'a/b']) {
      const refused = await ficus(['console', '--public-name', `console.example.org,${name}`, '--port', '0']);
      expect([name, refused.code, refused.err]).toEqual([
        name,
        2,
        expect.stringMatching(/--public-name takes host names/),
      ]);
    }
  });
});
