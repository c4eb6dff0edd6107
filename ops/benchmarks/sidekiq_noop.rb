# The Sidekiq baseline: a no-op job, on the same Redis as Fieldwork (its own database number).
require 'sidekiq'
url = ENV.fetch('SIDEKIQ_REDIS_URL')
Sidekiq.configure_server { |config| config.redis = { url: url } }
Sidekiq.configure_client { |config| config.redis = { url: url } }
Sidekiq.logger.level = Logger::WARN

class NoopJob
  include Sidekiq::Worker
  def perform(_n); end
end

if ENV['SIDEKIQ_ENQUEUE']
  total = Integer(ENV['SIDEKIQ_ENQUEUE'])
  (0...total).each_slice(1000) { |slice| Sidekiq::Client.push_bulk('class' => NoopJob, 'args' => slice.map { |i| [i] }) }
end
